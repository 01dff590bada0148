// Modal dialogs that htmx loads (UI.md 6.5): a swapped-in <dialog data-modal> opens with
// showModal(), so the focus moves into it and Escape closes it. Once closed it is removed
// (a later swap, say a poll, must not open it again) and the focus goes back to the control
// that asked for it (the ⓘ button).
document.addEventListener("htmx:after:swap", function () {
  document.querySelectorAll("dialog[data-modal]:not([open])").forEach(function (dialog) {
    var opener = document.activeElement;
    dialog.addEventListener("close", function () {
      dialog.remove();
      if (opener && opener.isConnected) {
        opener.focus();
      }
    }, { once: true });
    dialog.showModal();
  });
});

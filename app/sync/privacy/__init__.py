"""Privacy deletions: a person erased in HubSpot is erased where hubsync put them, with proof.

A ``contact.privacyDeletion`` webhook event becomes one ``DeletionRequest`` per
tenant that connects the portal. For every interface of that tenant on the
portal whose mapping maps contacts, the mapping's ``on_privacy_deletion``
policy is carried out in the source (delete, anonymise, or ignore with the
reason recorded), and hubsync's own rows about the person are purged: record
links, run items, webhook event payloads. What stays is the request itself, a
tombstone of ids, policy, per-system outcomes and timestamps, no personal
data. A request is completed only when every system confirmed; until then it
is retried with backoff, and its first failure is notified. See docs/privacy.md.

Modules: ``handler`` (the entry points), ``attempt`` (one attempt), ``targets``
(where the person may be), ``source`` (the step in a source system),
``outcomes`` (the tombstone's vocabulary and retry schedule), ``notices``
(messages about stuck deletions), ``log`` (the deletion log and its export),
``repository`` (their SQL).
"""

from app.sync.privacy.attempt import PrivacyDeletionIncomplete
from app.sync.privacy.handler import handle_privacy_deletion, retry_due_deletions

__all__ = ["PrivacyDeletionIncomplete", "handle_privacy_deletion", "retry_due_deletions"]

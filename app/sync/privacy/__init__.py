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

A source record deleted in the ERP whose mapping says ``source_deleted:
gdpr_delete`` is erased in HubSpot by hubsync itself (``erasure``): the same
request, tombstone and purge, with HubSpot as the system that must confirm.

Modules: ``handler`` (the entry points), ``attempt`` (one attempt), ``erasure``
(hubsync's own GDPR delete in HubSpot, ``erasure_retry`` its retries),
``suppressions`` (the list that keeps a deleted person out of HubSpot, read by
the sync engine), ``lifting`` (operators lifting entries of it), ``settle``
(what an attempt's end writes and tells), ``targets``
(where the person may be), ``source`` (the step in a source system),
``outcomes`` (the tombstone's vocabulary and retry schedule), ``notices``
(messages about stuck deletions), ``log`` (the deletion log and its export),
``repository`` (their SQL). The package imports none of them: the sync engine
uses ``erasure`` and ``suppressions``, and ``handler`` reaches the scheduler, which runs the engine.
"""

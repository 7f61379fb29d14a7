"""Batch repair of an inbox folder into an outbox: discovery, ledger, quarantine.

This is the library half of the scheduled batch repair (the Prefect flow in
``flows/repair.py`` only adds tasks, retries and a results table on top). It never imports
Prefect, so everything here runs and is tested without a server. One job per module:

- :mod:`~seedvr.batch.settings` — how every item is repaired (:class:`RepairSettings`);
- :mod:`~seedvr.batch.inbox` — which videos and masks the inbox holds (:func:`discover_inbox`);
- :mod:`~seedvr.batch.hashing` — what identifies an item's output (:func:`input_hash`);
- :mod:`~seedvr.batch.model_cache` — the model of a run: pinned, downloaded and loaded once per process;
- :mod:`~seedvr.batch.detection` — blind mode: the run's detector, the mask it finds;
- :mod:`~seedvr.batch.ledger` — the record of finished items (:class:`Ledger`);
- :mod:`~seedvr.batch.outbox` — where an item's files go, and whether their names fit;
- :mod:`~seedvr.batch.items` — one item: repair it, or quarantine it;
- :mod:`~seedvr.batch.run` — one run: plan what to do, do it (:func:`run_batch`).

Inbox conventions (top level of the inbox only; names starting with ``.`` are ignored):

- a **video** is any file with a video extension (``clip.mp4``) or a folder of numbered frames
  (``clip/``) whose name does not end in ``.mask``;
- its **mask** is, by name: ``clip.mask.png`` (one image for every frame), ``clip.mask.mkv``
  (any video or image extension) or a frame folder ``clip.mask/``; failing that, an
  inbox-wide ``mask.png`` (any image extension) is used for every video without its own;
- a video without any mask is repaired blind: the damage detector (the one the registered
  model version carries, else the shipped one; :mod:`~seedvr.batch.detection`) finds its film
  damage, the detected mask is written to the outbox as ``NAME.mask.mkv`` for a person to check,
  and the video is repaired inside it;
- a video with several masks, sharing its name with another video, whose video or mask is a
  link leading outside the inbox, or whose name is too long for the outbox's file system is
  an item with a ``problem``: it is quarantined with that sentence, never guessed at, and its
  input is never read.

Outbox layout: ``NAME.mkv`` (the output extension is a setting), ``NAME.report.json``, for a
video without a mask ``NAME.mask.mkv`` (the detected mask), and the ledger ``.ledger.jsonl``;
reports of bad inputs go to ``quarantine/NAME.error.json`` (the quarantine folder is a setting,
by default inside the outbox). Inputs are only ever read.

Idempotence: every finished item appends one line to the ledger, keyed by :func:`input_hash`
(input bytes + the settings that change the output). The ledger line is the commit point: an
output written just before a crash has no ledger line, so the next run repairs it again and
atomically replaces it. The line records the output's hash (and the detected mask's), so an
output or detected mask deleted or changed since is redone too. A bad input is recorded, so it
is not retried until its bytes (or its mask) change; an *unexpected* error is not recorded, so
the next run tries again (it may have been transient: a full disk, a busy GPU). A model that
cannot be loaded is nobody's input's fault: the run fails before any video is repaired or
quarantined.

Folders are made absolute when a run is planned, so workers with another current folder
write the same ledger, outputs and reports.
"""

from seedvr.batch.inbox import BatchItem, discover_inbox
from seedvr.batch.items import ItemResult, process_item, quarantine_item, repair_item
from seedvr.batch.ledger import STATUS_QUARANTINED, STATUS_REPAIRED, STATUS_SKIPPED, Ledger
from seedvr.batch.model_cache import ModelUnavailable
from seedvr.batch.run import BatchPlan, default_quarantine, plan_batch, run_batch, summarize
from seedvr.batch.settings import RepairSettings

__all__ = [
    "STATUS_QUARANTINED",
    "STATUS_REPAIRED",
    "STATUS_SKIPPED",
    "BatchItem",
    "BatchPlan",
    "ItemResult",
    "Ledger",
    "ModelUnavailable",
    "RepairSettings",
    "default_quarantine",
    "discover_inbox",
    "plan_batch",
    "process_item",
    "quarantine_item",
    "repair_item",
    "run_batch",
    "summarize",
]

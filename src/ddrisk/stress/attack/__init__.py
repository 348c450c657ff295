"""Adaptive attacks on a stack of safety layers: do attacks found against one layer pass the others?

Modules, in the order data flows through them:

* :mod:`~ddrisk.stress.attack.operators`, :mod:`~ddrisk.stress.attack.encodings` and
  :mod:`~ddrisk.stress.attack.registry`: meaning-preserving, seeded rewrites of a prompt,
  and how users add their own;
* :mod:`~ddrisk.stress.attack.search`: black-box search strategies under a query budget
  (beam search over operator compositions by default);
* :mod:`~ddrisk.stress.attack.engine` and :mod:`~ddrisk.stress.attack.store`: every query
  through the layer adapters, the shared verdict cache and a crash-safe SQLite store;
* :mod:`~ddrisk.stress.attack.target`: an OpenAI-compatible target model as a layer;
* :mod:`~ddrisk.stress.attack.experiment`: the phases (static baseline, per-layer searches,
  transfer replay, whole-stack search), resumable;
* :mod:`~ddrisk.stress.attack.results` and :mod:`~ddrisk.stress.attack.statistics`: the
  stored queries as arrays, and the pure statistics over them;
* :mod:`~ddrisk.stress.attack.api`: the entry points the CLI and the report share.
"""

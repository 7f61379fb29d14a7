"""Where models live: a saved pipeline folder, and the MLflow store that registers them.

- :mod:`~seedvr.modelstore.folder` — what a saved pipeline folder is (``model_index.json``);
- :mod:`~seedvr.modelstore.location` — which MLflow store runs and registered models go to;
- :mod:`~seedvr.modelstore.registered` — ``models:/NAME@ALIAS`` / ``models:/NAME/VERSION``
  URIs: resolve them, download a version once into a local cache, read an alias.

The read side of the registry lives here, below everything that loads a model (the pipeline
loader, training, the engine, batch repair), so none of them imports :mod:`seedvr.registry`,
which sits on top (it logs runs, registers and promotes, and uses the engine to serve).
MLflow is imported inside the functions that need it: it takes seconds to import and a
repair from a local folder never needs it.
"""

"""Prefect flows: thin orchestration over the ``seedvr`` library (tasks, retries, artifacts).

``flows.repair`` holds the scheduled batch repair, ``flows.training`` the training pipeline;
``prefect.yaml`` at the project root declares their deployments.
"""

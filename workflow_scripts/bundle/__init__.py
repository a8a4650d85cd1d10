"""The model bundle in results/model/: writing, verifying and loading it (store), what its manifest
records and reading it back (manifest), and its model card (model_card). Each model's file is
written and read by the model registry (models.registry).
"""

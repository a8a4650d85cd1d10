"""The model bundle in results/model/: writing, verifying and loading it (store), and its model card
(model_card).
"""

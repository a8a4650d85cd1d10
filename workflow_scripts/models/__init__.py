"""The models: the registry that defines each once (registry); the dense network and its trainer
(network), its hyperparameters and their roles (network_hyperparameters), its traced epoch
(traced_epoch) and the callbacks of variants trained together (callback_variants); the estimators
beside it: KNN, SVM, gradient boosting, soft voting, artist lookup (estimators).
"""

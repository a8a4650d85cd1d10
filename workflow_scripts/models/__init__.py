"""The models: the registry that defines each once (registry), the dense network (network), and the
estimators beside it: KNN, SVM, gradient boosting, soft voting, artist lookup (estimators).
"""

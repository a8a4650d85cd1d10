"""Features: the scikit-learn preprocessing Pipeline fit on training rows and applied per fold
(pipeline), and the features beyond the study's: ratios, text flags, stacked text models
(song_features).
"""

"""Features: the scikit-learn preprocessing Pipeline fit on training rows and applied per fold
(pipeline), and the features beyond the study's: log-ratios and audio contrasts
(engineered_ratios), the songs' texts (song_texts), text flags (text_flags), the text models
(text_models), stacked out-of-fold (text_stacking) on token counts computed once (tfidf_counts).
"""

"""The report's pages: the landing summary (summary) and the interactive grid-search view
(grid_view).
"""

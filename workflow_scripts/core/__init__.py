"""What every stage shares: user-facing errors, atomic file writes, the glue between a rule's script
and the modules (step), SIGINT handling, the config checks a JSON schema cannot express, what each
config key affects (footprint), and writing figures headless (figure_files).
"""

"""What every stage shares: user-facing errors, atomic file writes, the glue between a rule's script
and the modules (step), SIGINT handling, and the config checks a JSON schema cannot express.
"""

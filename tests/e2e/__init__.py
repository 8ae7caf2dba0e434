"""Offline end-to-end harness: deploy, test and destroy the stack against moto."""

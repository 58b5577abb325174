"""Wishes, every ask counted, review workflow with reasons."""

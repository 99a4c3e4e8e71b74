"""Tests of models.services."""

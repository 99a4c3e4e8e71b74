"""Tests of models.storage."""

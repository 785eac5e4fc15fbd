"""Rasa SDK custom actions: thin adapters between the dialogue and :mod:`recsys`.

Actions read slots and entities, call the recommender's public API and render
its results; no recommendation logic lives here. The action server imports
every module of this package and registers the actions it finds.
"""

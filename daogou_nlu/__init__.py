"""Custom Rasa NLU components for Daogou's mixed Chinese/English messages.

``config.yml`` names them by module path:
``daogou_nlu.tokenizer.MixedTokenizer`` and ``daogou_nlu.language.LanguageDetector``. The language rule
the actions share is in :mod:`daogou_nlu.language_detection`, which imports no Rasa.
"""

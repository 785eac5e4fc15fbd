"""Custom Rasa NLU components for Daogou's mixed Chinese/English messages.

``config.yml`` names them by module path:
``daogou_nlu.tokenizer.MixedTokenizer`` and ``daogou_nlu.language.LanguageDetector``.
"""

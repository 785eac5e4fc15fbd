"""A tokenizer for Chinese, English and both in one message.

Rasa's ``JiebaTokenizer`` cuts Chinese well and leaves Latin words whole, but
it also emits the spaces between English words as tokens, which then leak into
every featurizer as a "word". This component keeps Jieba's cuts (and its user
dictionaries of brand and product words) and drops whitespace tokens, and it
declares itself language-independent so one pipeline serves both languages.
"""
from __future__ import annotations

from typing import List, Optional, Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.training_data.message import Message


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=True)
class MixedTokenizer(JiebaTokenizer):
    """Jieba tokens without whitespace tokens, lower-cased for Latin text."""

    @staticmethod
    def supported_languages() -> Optional[List[Text]]:
        return None

    def tokenize(self, message: Message, attribute: Text) -> List[Token]:
        import jieba

        text = message.get(attribute)
        tokens = [
            Token(word, start, end, lemma=word.lower())
            for word, start, end in jieba.tokenize(text)
            if word.strip()
        ]
        return self._apply_token_pattern(tokens)

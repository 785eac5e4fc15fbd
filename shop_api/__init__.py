"""The shop API: a shop site's HTTP door to the recommender, beside the chat.

Its backend sends every view, cart and purchase (``POST /v1/events``; its pages send their shopper's
browsing with a shopper token from ``POST /v1/shopper-session``, never the API token), show "you may also like"
(``GET /v1/recommendations``, ``/v1/products/{id}/similar``) and keep the catalog current
(``PUT``/``DELETE /v1/products/{id}``). It serves the same :class:`recsys.Recommender` the chat's
action server uses, on the same database, so an event from either shapes both at once.

FastAPI, in a process of its own (``python -m shop_api``): its OpenAPI schema is what shop
developers and the fuzz tests read, pydantic checks every field, and it installs beside Rasa's
Sanic because the two never share a process.
"""

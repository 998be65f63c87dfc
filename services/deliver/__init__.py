"""The deliver worker: POSTs the articles of each webhook's stream to its URL, signed.

``sender`` signs and sends one attempt; ``endpoint`` delivers one webhook's entries in
order with retries; ``app`` runs one endpoint task per active webhook and follows
webhooks being created and deleted.
"""

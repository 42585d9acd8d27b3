"""The staff console's pages, a module per page group, each with `routes(console)`; bot/staff/web.py joins them.

`common`: what every page shares (cookies, languages, templates, the `Console`: the clock, the session, the
GET pages' sign-in prologue and the forms' POST). `login`, `tickets` (the queue and a ticket), `outbox`,
`appointments`, `handoffs`, `leads`, `reports`, `users`.
"""

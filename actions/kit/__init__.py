"""What every domain shares, and what the core and the channels use to talk to the domains.

Below the domains and above the database: nothing here imports a domain package or `bot/`.
- `types`: InboundMessage in, Reply/Option/Attachment out, whatever the channel.
- `catalog`: the message catalog (every text a customer sees, English and Arabic; the texts are in
  `texts/` folders beside the code).
- `turn`: one turn of a conversation as a handler sees it.
- `when`: what customers say about dates and times ("Saturday 9am", "بكرة الصبح").
- `normalise`: text normalisation (digits, folding).
"""

"""Car-care advice: the service advisor's know-how in chat (warning lights, tyres in heat, fluids, AC,
batteries in summer, sand, long drives, flooded roads...).

- `articles/<id>.yml`: the knowledge base, one article per topic, in English and Arabic, which the
  dealership edits without reading Python: title, which cars it applies to, a safety level (stop / soon /
  info), one follow-up action, keywords and example questions (for retrieval), the answer.
- `knowledge`: reading and checking the articles.
- `retrieval`: BM25 over the articles, with the threshold below which an advisor answers instead.
- `evaluation`: `dealerbot advice eval` on the held-out questions.
- `chat`: the `car_advice` intent, and `advise` for a question the NLU could not place.
"""

from actions.advice.chat import handlers

__all__ = ["handlers"]

import time
def test_live(live_app):
    from sqlalchemy import select, func
    from db.models import Customer
    with live_app.transaction() as s:
        assert s.scalar(select(func.count(Customer.id))) > 0

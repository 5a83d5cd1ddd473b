"""Share links: managing them (signed in) and the public pages they open (signed out)."""

urlpatterns: list = []

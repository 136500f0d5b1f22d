"""The web app: server-rendered pages with small islands of script, served by ``knotwork
serve`` next to the API, over the same services, accounts and privacy rules.

A page resolves its visitor with :func:`knotwork.web.session.page_account`, naming the API
route whose data it shows, so the policy table decides for the page exactly as for the API.
"""

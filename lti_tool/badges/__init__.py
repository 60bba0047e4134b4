"""Open Badges 3.0 achievements: credential shape, VC-JWT signing, baking and the status list.

Pure code over dictionaries and bytes: no Flask, no database. ``lti_tool.store.badges``
keeps what was issued; ``lti_tool.badges.issuance`` joins the two.
"""

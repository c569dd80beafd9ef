"""The FastAGI IVR: voice menus, service hours, green channels, call-back offers, voicemail, survey.

Entry point: `ivr.app.start_ivr_server(context, host, port)`; `hotline ivr` runs it alone.
"""

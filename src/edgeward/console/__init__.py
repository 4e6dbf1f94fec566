"""The web console at /console: sign-in, IAM administration, device registration.

Pages call the services' own operation handlers (through `services.invoke`) as the signed-in principal, so
every console action is authorized exactly as the same API call would be, and a denial shows AWS's message.
"""

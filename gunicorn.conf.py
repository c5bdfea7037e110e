"""gunicorn settings read from the project root (`make run`, the production command).

The access log leaves out the query string and the referrer: a candidate search
(`/api/v1/candidates?q=Grace Hopper`) would otherwise write a person's name to
it. The request id ties a line to the app's own log records.
"""

access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms id=%({x-request-id}o)s'

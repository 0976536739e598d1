"""`python -m audit [--port N]`: the consumer, with its health checks on the port (the
settings, PostgreSQL, RabbitMQ and the port are checked first, see roadmap_shared.serve).

`python -m audit verify`: checks the hash chain, record by record (see audit.verify);
exit status 0 if it holds, 1 naming the first broken record."""

import sys

from audit import verify
from roadmap_shared.serve import run_stage

if __name__ == "__main__":
    if sys.argv[1:2] == ["verify"]:
        sys.exit(verify.main())
    run_stage("audit")

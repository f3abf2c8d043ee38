"""whyrec: explainable recommendation whose explanations agree with its predictions."""

import time as _time

__version__ = "0.1.0"

# when this process imported whyrec: a run record says so when its source changed after that, since
# the commit read at the end of a long run is then not the code that ran (whyrec.provenance)
_IMPORTED_AT = _time.time()

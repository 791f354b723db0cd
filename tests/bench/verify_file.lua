-- POST /api/v1/verify/file with the PDF at $UPLOAD as the raw body.
local file = assert(io.open(os.getenv("UPLOAD"), "rb"))
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/pdf"
wrk.body = file:read("*a")
file:close()

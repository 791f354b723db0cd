-- POST /api/v1/verify/code with the code from $VERIFY_CODE.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"code":"' .. os.getenv("VERIFY_CODE") .. '"}'

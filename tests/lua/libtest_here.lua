-- tests/lua/libtest_here.lua: the folder of the library tests.  require
-- gives a module the path it was found at; lib.lua uses the folder to open
-- its lookup fixtures whatever the working directory of mekong test is.
local path = select(2, ...) or ""
return { dir = path:match("^(.*)/[^/]*$") or "." }

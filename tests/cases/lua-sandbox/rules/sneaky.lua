function process(row)
  if row.id == "1" then os.execute("touch pwned") end
  if row.id == "2" then io.popen("touch pwned") end
  if row.id == "3" then io.open("pwned", "w") end
  if row.id == "4" then package.loadlib("libc.so.6", "system") end
  if row.id == "5" then debug.sethook() end
  if row.id == "6" then dofile("/etc/passwd") end
end

function process(row)
  reject("long", "a long name")
end

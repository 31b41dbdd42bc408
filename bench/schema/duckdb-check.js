// bench/schema/duckdb-check.js CSV OUT -- the checks of bench.schema.json as
// SQL in DuckDB (@duckdb/node-api, installed by bench/schema.sh): the rows
// that pass every check, the first of each national_id, written to OUT.
// Prints "passed N".
const { DuckDBInstance } = require("@duckdb/node-api");
const [csv, out] = process.argv.slice(2);
const q = (s) => "'" + s.replace(/'/g, "''") + "'";
const sql = `
COPY (
  SELECT * EXCLUDE (rn, k) FROM (
    SELECT *, row_number() OVER (PARTITION BY national_id ORDER BY rn) AS k
    FROM (SELECT *, row_number() OVER () AS rn
          FROM read_csv(${q(csv)}, header = true, all_varchar = true))
    WHERE national_id IS NOT NULL AND regexp_full_match(national_id, '[0-9]{12}')
      AND full_name IS NOT NULL AND full_name <> '' AND length(full_name) <= 100
      AND (birth_date IS NULL OR (try_strptime(birth_date, '%Y-%m-%d') IS NOT NULL
                                  AND birth_date >= '1900-01-01'))
      AND (sex IS NULL OR sex IN ('Nam', 'Nữ'))
      AND (phone IS NULL OR regexp_full_match(phone, '(\\+84 ?|0)[0-9 ]{8,12}'))
      AND (registered_at IS NULL
           OR try_strptime(registered_at, '%Y-%m-%d %H:%M:%S') IS NOT NULL
           OR try_strptime(registered_at, '%Y-%m-%dT%H:%M:%S') IS NOT NULL)
  ) WHERE k = 1 ORDER BY rn
) TO ${q(out)} (HEADER, DELIMITER ',');`;
(async () => {
  const db = await DuckDBInstance.create(":memory:");
  const con = await db.connect();
  await con.run(sql);
  const r = await con.runAndReadAll(`SELECT count(*) FROM read_csv(${q(out)}, header = true, all_varchar = true)`);
  console.log("passed " + r.getRows()[0][0]);
})().catch((e) => { console.error(e.message); process.exit(1); });

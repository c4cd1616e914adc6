/* Header comment; it mentions CREATE TABLE nothing (); and /* nests; */ too. */
CREATE TABLE "Audit;Log" (
    id   serial PRIMARY KEY,
    body text NOT NULL CHECK (body <> '')  -- trailing comment; ignored
);
COMMENT ON TABLE "Audit;Log" IS 'it''s the log; keep it';
INSERT INTO "Audit;Log" (body) VALUES (E'line one;\nline two \' still quoted;');
ALTER TABLE "Audit;Log" ADD CONSTRAINT body_short CHECK (length(body) < 4000);

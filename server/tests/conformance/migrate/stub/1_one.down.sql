INSERT INTO seq (body) VALUES ('DROP 1');

INSERT INTO seq (body) VALUES ('DROP 5');

INSERT INTO seq (body) VALUES ('DROP 4');

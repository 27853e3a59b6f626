DROP TABLE signature_certificates;

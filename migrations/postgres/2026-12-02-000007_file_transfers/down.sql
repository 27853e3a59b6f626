DROP TABLE file_transfer_files;
DROP TABLE file_transfers;

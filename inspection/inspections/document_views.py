"""Protocol PDF download, bulk ZIP, sent-to-permit-holder record. (PDF issue.)"""

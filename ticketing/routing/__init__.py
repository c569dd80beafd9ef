"""Adapters the routing rules need: jieba segmentation and the phone-number geocoder."""

"""Synthetic citizen questions for the benchmarks' tickets (written here; not the labelled data).

Routing work of a realistic length, the same in every benchmark.
"""

TEXTS = [
    "老板拖欠了我三个月的工资，现在找不到人，我该怎么办",
    "我和丈夫要离婚，孩子的抚养权怎么判",
    "开车被追尾了，对方保险公司不肯赔医药费",
    "朋友借了五万块钱不还，只有微信聊天记录可以吗",
    "房东不退押金还要扣钱，合同上没写",
    "在网上买的手机是假货，商家不给退",
    "工地上摔伤了，包工头说不算工伤",
    "父母年纪大了，兄弟不肯出赡养费",
]

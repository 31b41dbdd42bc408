BEGIN {
    srand(42);
    split("Nguyễn Trần Lê Phạm Hoàng Huỳnh Phan Vũ Võ Đặng Bùi Đỗ Hồ Ngô Dương Lý", ho, " ");
    split("Văn Thị Hữu Đức Minh Ngọc Thanh Quốc Thuỳ Hoài", dem, " ");
    split("An Bình Cường Dũng Giang Hà Hải Hạnh Hùng Hương Khánh Lan Linh Long Mai Nam Nga Phúc Quân Sơn Thảo Thủy Trang Tuấn Việt Yến", ten, " ");
    split("hà nội|hồ chí minh|đà nẵng|hải phòng|cần thơ|thừa thiên huế|quảng ninh|nghệ an|đắk lắk|bà rịa – vũng tàu", prov, "|");
    split("Kinh|Tày|Thái|Mường|Khmer|Hoa|Nùng|H'Mông", eth, "|");
    split("giáo viên|kỹ sư|nông dân|công nhân|bác sĩ|kế toán|sinh viên|\"buôn bán, dịch vụ\"", occ, "|");
    print "national_id,full_name,birth_date,sex,phone,email,province,district,ward,address,ethnicity,occupation,registered_at";
    for (i = 1; i <= n; i++) {
        id = sprintf("%03d%d%02d%06d", int(rand() * 96) + 1, int(rand() * 4), int(rand() * 100), int(rand() * 1e6));
        if (i % 17 == 0) id = substr(id, 1, 9);
        name = ho[int(rand() * 16) + 1] " " dem[int(rand() * 10) + 1] " " ten[int(rand() * 27) + 1];
        if (i % 3 == 0) name = "  " name " ";
        d = int(rand() * 28) + 1; m = int(rand() * 12) + 1; y = 1940 + int(rand() * 80);
        bd = (i % 2) ? sprintf("%02d/%02d/%d", d, m, y) : sprintf("%d-%02d-%02d", y, m, d);
        phone = (i % 4 == 0) ? sprintf("+849%08d", int(rand() * 1e8)) : sprintf("09%08d", int(rand() * 1e8));
        p = prov[int(rand() * 10) + 1];
        printf "%s,\"%s\",%s,%s,%s,user%d@example.vn,%s,Quận %d,Phường %d,\"Số %d, đường %s, P. %d\",%s,%s,2024-%02d-%02dT08:00:00\n",
            id, name, bd, (i % 2 ? "Nam" : "Nữ"), phone, i, p, int(rand() * 12) + 1, int(rand() * 20) + 1,
            int(rand() * 300) + 1, ten[int(rand() * 27) + 1], int(rand() * 20) + 1,
            eth[int(rand() * 8) + 1], occ[int(rand() * 8) + 1], m, d;
    }
}
